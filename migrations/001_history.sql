-- Caller history: shows, callers, calls and the append-only log of every
-- call transition. Later migrations add users, api_tokens, sessions and
-- show_messages.

-- Trigram indexes make "number or name contains ..." searches use an index.
-- pg_trgm ships with Debian's postgresql package and is a trusted extension:
-- the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE shows (
    key        text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    title      text NOT NULL DEFAULT '',
    node       text NOT NULL DEFAULT '',   -- the Asterisk node the show lives on
    lines_open boolean NOT NULL DEFAULT false,
    settings   jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE callers (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number         text NOT NULL UNIQUE CHECK (number ~ '^\+?[0-9]+$'), -- normalised: + and digits
    name           text NOT NULL DEFAULT '',  -- last caller ID name seen
    notes          text NOT NULL DEFAULT '',  -- the producers' notes about this caller
    blocked        boolean NOT NULL DEFAULT false,
    blocked_reason text NOT NULL DEFAULT '',
    blocked_by     text NOT NULL DEFAULT '',
    blocked_at     timestamptz,
    first_call_at  timestamptz,
    last_call_at   timestamptz,
    calls_count    integer NOT NULL DEFAULT 0, -- calls recorded
    on_air_count   integer NOT NULL DEFAULT 0  -- calls that went on air
);
CREATE INDEX callers_number_trgm ON callers USING gin (number gin_trgm_ops);
CREATE INDEX callers_name_trgm ON callers USING gin (name gin_trgm_ops);

-- calls.show has no foreign key on purpose: the history writer must never
-- be stopped by a transition for a show that is configured elsewhere.
CREATE TABLE calls (
    id             text PRIMARY KEY,           -- queue.CallID
    show           text NOT NULL,
    caller_id      bigint REFERENCES callers (id), -- NULL for a withheld number
    number         text NOT NULL DEFAULT '',   -- as presented
    name           text NOT NULL DEFAULT '',   -- caller ID name as presented
    node           text NOT NULL DEFAULT '',
    channel_id     text NOT NULL DEFAULT '',
    state          text NOT NULL,              -- the state after last_seq
    last_seq       integer NOT NULL,           -- the highest transition applied
    arrived_at     timestamptz,
    answered_at    timestamptz,
    screened_at    timestamptz,
    ready_at       timestamptz,
    on_air_at      timestamptz,                -- first time on air
    off_air_at     timestamptz,                -- last time it left the air
    ended_at       timestamptz,
    outcome        text,
    hangup_cause   integer,                    -- Q.850
    reason         text,
    notes_name     text,                       -- screener notes, NULL until written
    notes_location text,
    notes_topic    text,
    notes_priority integer
);
CREATE INDEX calls_show_arrived ON calls (show, arrived_at);
CREATE INDEX calls_caller_arrived ON calls (caller_id, arrived_at DESC);
-- Rebuilding a show after a restart reads its calls that have not ended.
CREATE INDEX calls_open ON calls (show) WHERE ended_at IS NULL;

-- Append-only: one row per queue.Transition. (call_id, seq) makes writing a
-- transition twice harmless. No foreign key to calls: the writer fills both
-- in one statement and the check would only cost time.
CREATE TABLE call_events (
    call_id    text NOT NULL,
    seq        integer NOT NULL,
    at         timestamptz NOT NULL,
    show       text NOT NULL,
    from_state text NOT NULL,
    to_state   text NOT NULL,
    action     text NOT NULL,
    actor_kind text NOT NULL,
    actor_name text NOT NULL DEFAULT '',
    payload    jsonb NOT NULL DEFAULT '{}'::jsonb, -- notes, outcome, cause, reason when set
    PRIMARY KEY (call_id, seq)
);
CREATE INDEX call_events_show_at ON call_events (show, at);

---- create above / drop below ----

DROP TABLE call_events;
DROP TABLE calls;
DROP TABLE callers;
DROP TABLE shows;
