-- Recordings of the on-air bridge (issue 16): Asterisk stores the file
-- under name; callin keeps what it knows of it, to list a show's and a
-- call's recordings and serve the file through its own checks. calls are
-- the ids of the calls on air at any time during the recording. deleted_at
-- is when callin's retention (--keep-recordings) deleted the file from
-- Asterisk; the row stays, as the history of what was recorded.

CREATE TABLE recordings (
    name        text PRIMARY KEY,
    show        text NOT NULL,
    format      text NOT NULL DEFAULT '',
    started_at  timestamptz,
    ended_at    timestamptz NOT NULL,
    duration_ms bigint NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
    calls       text[] NOT NULL DEFAULT '{}',
    deleted_at  timestamptz
);
CREATE INDEX recordings_show_ended ON recordings (show, ended_at DESC);
CREATE INDEX recordings_calls ON recordings USING gin (calls);
CREATE INDEX recordings_kept_ended ON recordings (ended_at) WHERE deleted_at IS NULL;

---- create above / drop below ----

DROP TABLE recordings;
