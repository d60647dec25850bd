package postgres

// MigrateWith applies the given migrations instead of the embedded ones.
var MigrateWith = migrate
