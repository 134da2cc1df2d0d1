"""The PostgreSQL schema of the incident store, versioned.

Append-only is enforced by the database twice over: triggers refuse UPDATE, DELETE and TRUNCATE
on the log's tables for every role (owner included), and a team's role is granted only SELECT
and INSERT on them (README: Pairing). Every table a write touches grows by INSERT alone: a
closure is a row in `incident_closures`, a rename is an event (the listing takes the latest),
so the least-privilege role can do everything the cockpit does. Presence is not history: its
own table, the only one with UPDATE and DELETE.

Each commit to `events` NOTIFYs `cockpit_events` with `<incident id> <seq>`; readers then fetch
by seq. Writers hold one advisory lock from before their INSERT until COMMIT, so sequence order
is commit order: a reader that has seen seq N will never later find a smaller one.
"""

from __future__ import annotations

SCHEMA_VERSION = 1
"""Bumped by any change an older cockpit cannot work with; it then refuses the database."""

EVENTS_CHANNEL = "cockpit_events"
PRESENCE_CHANNEL = "cockpit_presence"
APPEND_LOCK = 0x636F636B70697401
"""`pg_advisory_xact_lock` key held by every write to the log ("cockpit" + 1)."""
SCHEMA_LOCK = 0x636F636B70697402
"""Held while creating the schema, so two first users do not race."""

APPEND_ONLY_TABLES = ("incidents", "events", "incident_closures", "redaction_salts")

DDL = f"""
CREATE TABLE cockpit_schema (
    version     integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE incidents (
    id          text PRIMARY KEY,
    title       text NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL,
    drill       boolean NOT NULL DEFAULT false
);
CREATE TABLE events (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          text NOT NULL UNIQUE,
    incident_id text NOT NULL REFERENCES incidents(id),
    ts          timestamptz NOT NULL,
    author      text NOT NULL,
    kind        text NOT NULL,
    payload     text NOT NULL
);
CREATE INDEX events_by_incident ON events (incident_id, seq);
CREATE INDEX events_renames ON events (incident_id, seq) WHERE kind = 'incident.renamed';
CREATE TABLE incident_closures (
    incident_id text PRIMARY KEY REFERENCES incidents(id),
    closed_at   timestamptz NOT NULL
);
CREATE TABLE redaction_salts (
    incident_id text PRIMARY KEY REFERENCES incidents(id),
    salt        bytea NOT NULL CHECK (length(salt) = 32)
);
CREATE TABLE presence (
    incident_id text NOT NULL,
    host        text NOT NULL,
    pid         integer NOT NULL,
    author      text NOT NULL,
    pane        text NOT NULL,
    last_seen   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (incident_id, host, pid)
);

CREATE FUNCTION cockpit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;

CREATE FUNCTION cockpit_notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{EVENTS_CHANNEL}', NEW.incident_id || ' ' || NEW.seq);
    RETURN NULL;
END $$;

CREATE FUNCTION cockpit_notify_presence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('{PRESENCE_CHANNEL}', OLD.incident_id);
    ELSE
        PERFORM pg_notify('{PRESENCE_CHANNEL}', NEW.incident_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION cockpit_notify_event();
CREATE TRIGGER presence_notify_join AFTER INSERT OR DELETE ON presence
    FOR EACH ROW EXECUTE FUNCTION cockpit_notify_presence();
-- A heartbeat that changes nothing but the time wakes nobody.
CREATE TRIGGER presence_notify_move AFTER UPDATE ON presence
    FOR EACH ROW WHEN (OLD.pane IS DISTINCT FROM NEW.pane OR OLD.author IS DISTINCT FROM NEW.author)
    EXECUTE FUNCTION cockpit_notify_presence();
""" + "".join(
    f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION cockpit_append_only();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION cockpit_append_only();
"""
    for table in APPEND_ONLY_TABLES
)


def init_sql() -> str:
    """The DDL as one script for an admin (`cockpit store init --print-sql | psql ...`)."""
    return (
        f"-- cockpit incident store, schema version {SCHEMA_VERSION}\n"
        "-- Run once, as the owner of the database (or of the schema on its search_path).\n"
        "BEGIN;\n"
        + DDL.strip()
        + f"\nINSERT INTO cockpit_schema (version) VALUES ({SCHEMA_VERSION});\nCOMMIT;\n"
    )


def grants_sql(role: str = "cockpit_team") -> str:
    """Least privilege for a team's role (the README's SQL): read and append the log, keep
    presence rows; nothing can change or remove what is on the timeline."""
    log_tables = ", ".join(APPEND_ONLY_TABLES)
    return (
        f"GRANT SELECT ON cockpit_schema TO {role};\n"
        f"GRANT SELECT, INSERT ON {log_tables} TO {role};\n"
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON presence TO {role};\n"
    )
