-- Idempotency keys (issue 22): an API client that sends a POST with an
-- Idempotency-Key header and retries it (it lost the answer) gets the
-- first answer again instead of acting twice. One row per key of a
-- principal: reserved (status NULL) while the first request runs, then
-- holding its answer. A key is the principal's own: two tokens may use the
-- same key for different requests.
--
-- principal is "user:<users.id>" or "token:<api_tokens.id>", as text with
-- no foreign key: the rows are short-lived (24 h) and a key's answer may
-- outlive a revoked token. request_hash is the SHA-256 of the request as
-- the API defines it (method, path, body), so the same key with another
-- request is told apart.

CREATE TABLE idempotency_keys (
    principal    text NOT NULL CHECK (principal ~ '^(user|token):[0-9]+$'),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL CHECK (length(request_hash) = 32),
    status       smallint CHECK (status BETWEEN 100 AND 599), -- NULL: in flight
    content_type text NOT NULL DEFAULT '',
    body         bytea NOT NULL DEFAULT ''::bytea CHECK (length(body) <= 1048576),
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    PRIMARY KEY (principal, key)
);
-- Expiry deletes by age.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

---- create above / drop below ----

DROP TABLE idempotency_keys;
