package aritest

import "net/http"

// Dialplan global variables (GET and POST /asterisk/variable), as a real
// Asterisk 22.10.1 answers them (ari's TestContractGlobalVar): a variable
// never set reads as "" with 200, an empty name is 400 "Variable name is
// required", a set answers 204. They are lost on Restart, as a real
// restart loses globals set through ARI. The fake's callers do not read
// them (its calls enter Stasis without a dialplan).

func (s *Server) getGlobalVar(q *req) {
	name := q.get("variable")
	if name == "" {
		writeMsg(q.w, http.StatusBadRequest, "Variable name is required")
		return
	}
	writeJSON(q.w, http.StatusOK, map[string]string{"value": s.globals[name]})
}

func (s *Server) setGlobalVar(q *req) {
	name := q.get("variable")
	if name == "" {
		writeMsg(q.w, http.StatusBadRequest, "Variable name is required")
		return
	}
	s.globals[name] = q.get("value")
	q.w.WriteHeader(http.StatusNoContent)
}

// GlobalVar is the dialplan global variable name as last set through ARI
// ("" when never set, or since a Restart).
func (s *Server) GlobalVar(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.globals[name]
}
