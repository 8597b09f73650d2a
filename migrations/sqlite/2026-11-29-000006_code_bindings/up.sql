-- What a verification code is bound to (issue 12): the account a verification
-- code or link belongs to, or a fingerprint of the password hash a reset code
-- may replace. Link entries are keyed by the link's fingerprint, so the
-- recipient column may hold a 64-character fingerprint.
ALTER TABLE verification_codes ADD COLUMN binding TEXT;
