package rest_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/callin-radio/callin/web/rest"
)

// The README's list of API operations is made from rest.APIOps: between these
// markers, TestREADMEListsTheAPI wants exactly apiTable (and -update
// writes it).
const (
	readmeFile  = "../../README.md"
	readmeBegin = "<!-- api operations: made from web/rest/openapi.go by go test ./web/rest -run TestREADMEListsTheAPI -update -->\n"
	readmeEnd   = "<!-- end of api operations -->\n"
)

// apiTable is the README's list of operations: method, path, operationId
// and summary, in the document's order.
func apiTable() string {
	var b strings.Builder
	b.WriteString("| method | path (under `/api/v1`) | operationId | what |\n| --- | --- | --- | --- |\n")
	for _, op := range rest.APIOps {
		fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s |\n", op.Method, op.Path, op.ID, op.Summary)
	}
	return b.String()
}

func TestREADMEListsTheAPI(t *testing.T) {
	b, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(readmeBegin))
	j := bytes.Index(b, []byte(readmeEnd))
	if i < 0 || j < i {
		t.Fatalf("%s has no list of API operations between %q and %q", readmeFile, readmeBegin, readmeEnd)
	}
	want := apiTable()
	got := string(b[i+len(readmeBegin) : j])
	if got == want {
		return
	}
	if *update {
		out := append(append(append([]byte{}, b[:i+len(readmeBegin)]...), want...), b[j:]...)
		if err := os.WriteFile(readmeFile, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("the README's API operations are not the document's: run go test ./web/rest -run TestREADMEListsTheAPI -update")
}
