-- Gates of the login slowdown: a gate lets one attempt through, then stays closed until
-- open_at (seconds since the epoch). Deleted by housekeeping a day after they opened again.
CREATE TABLE throttle_gates (
    key     TEXT   PRIMARY KEY,
    open_at BIGINT NOT NULL
);
CREATE INDEX throttle_gates_by_open_at ON throttle_gates (open_at);
