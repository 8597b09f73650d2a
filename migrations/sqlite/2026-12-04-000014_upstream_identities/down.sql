DROP TABLE upstream_identities;
DROP TABLE upstream_providers;
