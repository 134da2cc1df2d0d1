"""The incident store on a PostgreSQL server, for pairing across machines.

`target` names the server (a password-free URL) and never imports the driver; `store` is the
`IncidentStore` on psycopg 3, with a durable local `outbox` for writes made while the server is
unreachable; `watch` follows LISTEN/NOTIFY; `presence` keeps who-is-here in its own table.
"""
