DELETE FROM verification_codes WHERE CHAR_LENGTH(binding) > 400;
ALTER TABLE verification_codes MODIFY binding VARCHAR(400) NULL;
DROP TABLE passkeys;
