-- A show's settings as producers last changed them while it ran (lines
-- open or closed, capacity, on-air limit, announcement interval). The
-- --show flags set a show up at each start; this row lets a standby
-- instance that takes a node over carry on with the show as it was, not as
-- its flags say.

CREATE TABLE show_state (
    show              text PRIMARY KEY REFERENCES shows (key) ON DELETE CASCADE,
    lines_open        boolean NOT NULL,
    capacity          integer NOT NULL CHECK (capacity >= 0),
    max_on_air        integer NOT NULL CHECK (max_on_air >= 0),
    announce_every_ms bigint  NOT NULL CHECK (announce_every_ms >= 0),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Which instance drives each Asterisk node, and where producers' requests
-- to a standby instance are passed on to (its --advertise URL, "" when it
-- has none). The claim itself is an advisory lock; this row only says
-- where the holder is.
CREATE TABLE node_drivers (
    node  text PRIMARY KEY,
    url   text NOT NULL,
    since timestamptz NOT NULL DEFAULT now()
);

---- create above / drop below ----

DROP TABLE node_drivers;
DROP TABLE show_state;
