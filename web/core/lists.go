package core

// SearchLimit is the most matches a caller search shows.
const SearchLimit = 50

// HistoryLimit is how many past calls a caller's history shows.
const HistoryLimit = 100

// RecordingsLimit is the most recordings one list answers.
const RecordingsLimit = 200

// NotesHistoryLimit is how many versions of a caller's notes a page shows.
const NotesHistoryLimit = 20
