"""Operations on a whole store: backup and restore, export, migration to a new release."""
