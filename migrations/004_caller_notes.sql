-- Caller notes (issue 13): what producers keep about a caller from one call
-- to the next: a topic, free notes, a rating and two flags. Every save is a
-- new row, so the caller's history keeps every version; the newest row of a
-- number is its notes now. callers.notes keeps the newest notes' text too,
-- so a search and the caller profile show it without a join.
--
-- number is the normalised number (queue.NormalizeNumber), not a key of
-- callers: notes may be written about a number before its first call is
-- recorded. call_id is the call they were written during, if any.

CREATE TABLE caller_notes (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number         text NOT NULL CHECK (number ~ '^\+?[0-9]{1,20}$'),
    topic          text NOT NULL DEFAULT '' CHECK (length(topic) <= 200),
    notes          text NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
    rating         smallint NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    do_not_air     boolean NOT NULL DEFAULT false,
    contest_winner boolean NOT NULL DEFAULT false,
    call_id        text NOT NULL DEFAULT '',
    written_by     text NOT NULL DEFAULT '',
    written_at     timestamptz NOT NULL DEFAULT now()
);
-- The newest version of a number first: the current notes, then the history.
CREATE INDEX caller_notes_number ON caller_notes (number, id DESC);

-- Notes written before this table (callers.notes) become each number's
-- first version.
INSERT INTO caller_notes (number, notes, written_at)
    SELECT number, left(notes, 2000), coalesce(last_call_at, now()) FROM callers WHERE notes <> '';

---- create above / drop below ----

DROP TABLE caller_notes;
