-- The nodes a show was given while it ran (issue 24: POST
-- /api/v1/shows/{show}/nodes, broadcast.App.AddShowNode), so that a
-- restart of callin adds them again beside its --nodes and the --show
-- flag's nodes=. url is the node's ARI URL, without credentials (those
-- come from callin's environment, as for --nodes).

CREATE TABLE show_nodes (
    show     text NOT NULL REFERENCES shows (key) ON DELETE CASCADE,
    node     text NOT NULL,
    url      text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (show, node)
);

---- create above / drop below ----

DROP TABLE show_nodes;
