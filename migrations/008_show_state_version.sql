-- A version for a show's run-time settings (issue 22): the API's ETag, so
-- that two producers changing settings at once cannot overwrite each
-- other unseen (If-Match, 412 on a stale version). The trigger bumps it on
-- every update that changes a setting, whoever writes (an older callin
-- during an upgrade, an operator by hand); an update that writes the same
-- values again (the background save of a change already saved) keeps it.
-- Caller notes need no such column: each save is a new caller_notes row,
-- and the newest row's id is the version.

ALTER TABLE show_state ADD COLUMN version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION show_state_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.lines_open, NEW.capacity, NEW.max_on_air, NEW.announce_every_ms)
       IS DISTINCT FROM (OLD.lines_open, OLD.capacity, OLD.max_on_air, OLD.announce_every_ms) THEN
        NEW.version := OLD.version + 1;
    ELSE
        NEW.version := OLD.version;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER show_state_version BEFORE UPDATE ON show_state
    FOR EACH ROW EXECUTE FUNCTION show_state_version();

---- create above / drop below ----

DROP TRIGGER show_state_version ON show_state;
DROP FUNCTION show_state_version();
ALTER TABLE show_state DROP COLUMN version;
