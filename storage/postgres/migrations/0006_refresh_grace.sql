-- Refresh grace window (SQLite's 0006): the rotated token keeps its successor, sealed.
ALTER TABLE tokens ADD COLUMN successor_hash TEXT;
ALTER TABLE tokens ADD COLUMN successor_sealed BYTEA;
