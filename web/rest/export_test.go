package rest

// APIOps are the API's operations, for the README's list
// (TestREADMEListsTheAPI).
var APIOps = apiOps
