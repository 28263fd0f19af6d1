package source

import (
	"strings"
	"testing"
)

func TestPrintCaret(t *testing.T) {
	f := &File{Name: "a.bl", Src: []byte("x = 1\n\ty = frob(2)\n")}
	e := Errorf(f, Span{Start: Pos{Offset: 11, Line: 2, Col: 6}, End: Pos{Offset: 15, Line: 2, Col: 10}}, Name, "unknown %q", "frob")
	var b strings.Builder
	Print(&b, List{e, Errorf(nil, Span{}, Runtime, "no position")})
	want := "a.bl:2:6: name error: unknown \"frob\"\n" +
		"    2 |     y = frob(2)\n" +
		"      |         ^~~~\n" +
		"runtime error: no position\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestListError(t *testing.T) {
	var l List
	if l.Err() != nil {
		t.Error("empty list must be a nil error")
	}
	l.Add(Errorf(nil, Span{}, Type, "b"))
	l.Add(Errorf(nil, Span{}, Type, "a"))
	if got := l.Error(); got != "type error: b (and 1 more errors)" {
		t.Errorf("got %q", got)
	}
}

func TestNearest(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"rleu", "relu"}, {"tanhh", "tanh"}, {"zzzzzz", ""}, {"x", ""},
	} {
		if got := Nearest(tc.name, []string{"relu", "tanh", "sigmoid", "y"}); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPosOf(t *testing.T) {
	src := []byte("ab\ncé\nd")
	if p := PosOf(src, 6); p.Line != 2 || p.Col != 3 {
		t.Errorf("PosOf = %+v, want line 2 col 3 (runes)", p)
	}
}
