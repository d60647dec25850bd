-- A person's phone: the Asterisk endpoint callin rings when they screen a
-- caller (issue 12), e.g. PJSIP/screener1. NULL: no phone; they screen from
-- the console and the caller keeps the music.
--
-- queue.ParseEndpoint is the rule, and callin writes only what it returns;
-- the CHECK repeats it so that a row written by hand cannot hold a dial
-- string with a second endpoint or options ('/', ',', '&', '|', '(', spaces).
-- postgres/phones_test.go checks that the two agree.

ALTER TABLE users ADD COLUMN phone text
    CONSTRAINT users_phone_endpoint CHECK (
        length(phone) <= 128
        AND phone ~ '^(PJSIP|SIP|IAX2|DAHDI|Local)/[A-Za-z0-9_.+-]+(@[A-Za-z0-9_.-]+)?$'
    );

---- create above / drop below ----

ALTER TABLE users DROP COLUMN phone;
