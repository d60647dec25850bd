-- The studio node a show was last given while it ran (issue 24:
-- broadcast.App.SetStudio, after the studio was lost), so that a restart
-- of callin names it again instead of the --show flag's studio= ("": none
-- named, the flag's is used). Not a setting of the API's ETag: the
-- version trigger leaves it out.

ALTER TABLE show_state ADD COLUMN studio text NOT NULL DEFAULT '';

---- create above / drop below ----

ALTER TABLE show_state DROP COLUMN studio;
