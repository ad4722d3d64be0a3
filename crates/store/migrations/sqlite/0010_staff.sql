-- The staff web UI: users of an account (owner or staff) with argon2 password hashes, their
-- sessions (only the SHA-256 of the cookie is stored), failed sign-ins (throttling), and
-- password reset links (only the hash of the token).

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    email          TEXT NOT NULL,       -- lowercased; one user per address installation-wide
    name           TEXT NOT NULL,
    role           TEXT NOT NULL,       -- 'owner', 'staff'
    language       TEXT,                -- 'de', 'en'; NULL: the browser's
    password_hash  TEXT NOT NULL,       -- argon2id, PHC string
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    disabled_at    INTEGER,
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE INDEX users_account ON users (account_id);

CREATE TABLE staff_sessions (
    token_hash    TEXT PRIMARY KEY,     -- hex SHA-256 of the cookie's value
    user_id       TEXT NOT NULL REFERENCES users (id),
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    csrf          TEXT NOT NULL,        -- the token every form of this session carries
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);

CREATE TABLE sign_in_failures (
    id     TEXT PRIMARY KEY,
    email  TEXT NOT NULL,
    ip     TEXT NOT NULL,
    at     INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_email ON sign_in_failures (email, at);
CREATE INDEX sign_in_failures_ip ON sign_in_failures (ip, at);

CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX password_resets_user ON password_resets (user_id);
