-- Accounts: console users, their browser sessions, API tokens for show
-- automation, and the short message channel between screeners and the host
-- on a show page. Roles are checked here as well as in web/auth, so a row
-- written by hand cannot hold a role the service does not know.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Lower case: web/auth folds names before it looks them up.
    name          text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._@-]{0,63}$'),
    role          text NOT NULL CHECK (role IN ('admin', 'producer', 'screener', 'host')),
    password_hash text NOT NULL,   -- PHC string: $argon2id$v=19$m=...,t=...,p=...$salt$key
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The cookie holds 32 random bytes; only their SHA-256 is stored, so a copy
-- of this table cannot be replayed as cookies.
CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,  -- absolute expiry, fixed at login
    last_seen_at timestamptz NOT NULL,  -- for the idle expiry; written at most once a minute
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Tokens are 32 random bytes: SHA-256 is enough, and lets a request find its
-- token by an index lookup. The prefix is the token's first characters, for
-- people to tell tokens apart in a list.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role         text NOT NULL CHECK (role IN ('admin', 'producer', 'screener', 'host')),
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    prefix       text NOT NULL,
    created_by   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,           -- written at most once a minute
    revoked_at   timestamptz
);
-- A name names one live token, so "revoke NAME" is unambiguous; revoked
-- tokens keep their rows (and names) for the record.
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- No foreign key to shows, as for calls.show: shows may be configured
-- elsewhere. author is a user name, kept as text so messages outlive users.
CREATE TABLE show_messages (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    show   text NOT NULL,
    author text NOT NULL,
    body   text NOT NULL CHECK (length(body) BETWEEN 1 AND 500),
    at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX show_messages_show_at ON show_messages (show, at DESC, id DESC);

---- create above / drop below ----

DROP TABLE show_messages;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
