-- Refresh grace window (SPEC §3.1): a refresh token rotated moments ago may be presented
-- once more by a client whose answer was lost, and gets the same new pair again.
-- The rotated token's row keeps which token replaced it and that new pair sealed with
-- a key derived from the rotated token itself (AES-GCM): only someone presenting that
-- token can open it, and nothing at rest reveals a usable token. Only the newest
-- rotation of a device keeps its seal; older ones are cleared.
ALTER TABLE tokens ADD COLUMN successor_hash TEXT;
ALTER TABLE tokens ADD COLUMN successor_sealed BLOB;
