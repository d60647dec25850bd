package apiclient

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// TestEnumConstantsNamed: every generated enum constant is named after
// its type (CallStateOnAir, ActorKindToken), never a bare word (OnAir,
// Token) that says nothing of what it is (issue 22, point 7).
func TestEnumConstantsNamed(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "client.gen.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			typ, ok := v.Type.(*ast.Ident)
			if !ok {
				continue
			}
			for _, name := range v.Names {
				n++
				if !strings.HasPrefix(name.Name, typ.Name) {
					t.Errorf("constant %s of type %s is not named after its type", name.Name, typ.Name)
				}
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d typed constants found", n)
	}
	if CallStateOnAir != "on_air" || ActorKindToken != "token" {
		t.Fatal("shared enums' constants")
	}
}
