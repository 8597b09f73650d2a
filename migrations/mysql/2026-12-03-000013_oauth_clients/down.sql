ALTER TABLE sessions DROP COLUMN issued_to;
DROP TABLE oauth_grants;
DROP TABLE oauth_consents;
DROP TABLE oauth_clients;
