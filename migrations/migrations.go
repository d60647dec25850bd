// Package migrations holds callin's database schema as numbered SQL files,
// embedded in the binary. Each file is one migration, applied in order and in
// one transaction by tern (see postgres.Migrate); the part after the line
// "---- create above / drop below ----" undoes it. Files are never edited once
// released: a change of schema is a new file with the next number.
package migrations

import "embed"

// FS holds the migration files, named NNN_name.sql.
//
//go:embed *.sql
var FS embed.FS
