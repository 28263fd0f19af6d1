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

func TestPosNonASCII(t *testing.T) {
	// Long enough for several rune-count marks, with a multi-byte rune,
	// an invalid byte and a CRLF on the way.
	src := []byte(strings.Repeat("é", 300) + "\xff" + strings.Repeat("a", 600) + "\r\nß" + strings.Repeat("x", 700) + "\n")
	f := &File{Src: src}
	for off := 0; off <= len(src); off++ {
		// The reference: a scan from the start, counting runes as range does.
		line, col := 1, 1
		for _, r := range string(src[:off]) {
			if r == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		if p := f.Pos(off); p.Line != line || p.Col != col || p.Offset != off {
			t.Fatalf("Pos(%d) = %+v, want line %d col %d", off, p, line, col)
		}
	}
	if p := f.Pos(len(src) + 5); p.Offset != len(src) {
		t.Errorf("an offset past the end gives %+v, want the end", p)
	}
}

func TestPrintCaretLongLine(t *testing.T) {
	src := []byte("let x = [" + strings.Repeat("1, ", 10000) + "frob]\n")
	off := strings.Index(string(src), "frob")
	f := &File{Name: "a.bl", Src: src}
	var b strings.Builder
	Print(&b, Errorf(f, Span{Start: f.Pos(off), End: f.Pos(off + 4)}, Name, "unknown %q", "frob"))
	lines := strings.Split(b.String(), "\n")
	if len(lines) != 4 || len([]rune(lines[1])) > maxShown+12 {
		t.Fatalf("a long line must be cut around the error:\n%s", b.String())
	}
	// The caret still sits under the name.
	caret := strings.Index(lines[2], "^")
	if got := string([]rune(lines[1])[caret : caret+4]); got != "frob" {
		t.Errorf("caret under %q, want frob:\n%s", got, b.String())
	}
}
