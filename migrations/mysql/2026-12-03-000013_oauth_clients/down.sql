DROP TABLE oauth_grants;
DROP TABLE oauth_consents;
DROP TABLE oauth_clients;
