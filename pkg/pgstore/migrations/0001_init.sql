-- 0001_init: the tables of pgstore. Applied by Store.Migrate in one
-- transaction under an advisory lock; see migrate.go.

-- One row per commit (all the events of one command). The primary key is
-- the optimistic condition of Append: two writers from the same version
-- collide on (stream_type, stream_id, version).
CREATE TABLE signal.events (
    stream_type     text        NOT NULL,
    stream_id       text        NOT NULL,
    -- the version of the commit's first event, and of its last
    version         bigint      NOT NULL,
    last_version    bigint      NOT NULL,
    -- The id of the transaction that wrote the row: one commit per
    -- transaction, so it is unique, and it is the commit's position in
    -- the change feed (see feed.go for why it never skips a commit).
    xid             xid8        NOT NULL DEFAULT pg_current_xact_id(),
    command_id      text        NOT NULL,
    correlation_id  text        NOT NULL,
    causation_id    text        NOT NULL,
    -- Commit.Time: the Service's clock, kept to the microsecond
    recorded_at     timestamptz NOT NULL,
    -- a Final commit closes the stream
    final           boolean     NOT NULL,
    -- the events, one array element each, in order
    event_ids       text[]      NOT NULL,
    event_names     text[]      NOT NULL,
    schema_versions integer[]   NOT NULL,
    payloads        bytea[]     NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (stream_type, stream_id, version),
    CONSTRAINT events_xid_key UNIQUE (xid),
    CONSTRAINT events_version_check CHECK (version >= 1 AND last_version >= version),
    CONSTRAINT events_arrays_check CHECK (
        cardinality(event_ids) = last_version - version + 1
        AND cardinality(event_names) = cardinality(event_ids)
        AND cardinality(schema_versions) = cardinality(event_ids)
        AND cardinality(payloads) = cardinality(event_ids))
);

-- The latest snapshot of a stream; SaveSnapshot never replaces a newer one.
CREATE TABLE signal.snapshots (
    stream_type    text        NOT NULL,
    stream_id      text        NOT NULL,
    version        bigint      NOT NULL,
    schema_version integer     NOT NULL,
    data           bytea,
    recorded_at    timestamptz NOT NULL,
    CONSTRAINT snapshots_pkey PRIMARY KEY (stream_type, stream_id)
);

-- A subscriber's checkpoint on a stream; a missing row is 0.
CREATE TABLE signal.checkpoints (
    subscriber  text   NOT NULL,
    stream_type text   NOT NULL,
    stream_id   text   NOT NULL,
    version     bigint NOT NULL,
    CONSTRAINT checkpoints_pkey PRIMARY KEY (subscriber, stream_type, stream_id)
);

-- Projection documents.
CREATE TABLE signal.views (
    name    text   NOT NULL,
    key     text   NOT NULL,
    version bigint NOT NULL,
    data    bytea  NOT NULL,
    CONSTRAINT views_pkey PRIMARY KEY (name, key)
);
