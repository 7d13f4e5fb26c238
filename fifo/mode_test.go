package fifo

import (
	"os"
	"testing"
)

func TestParseMode(t *testing.T) {
	cases := []struct {
		in    string
		umask os.FileMode
		want  os.FileMode
	}{
		{"600", 0o022, 0o600},
		{"0640", 0o022, 0o640},
		{"0", 0o022, 0},
		{"777", 0o077, 0o777}, // octal is exact, umask ignored
		{"u=rw,go=", 0o022, 0o600},
		{"a=r", 0o022, 0o444},
		{"a-w", 0o022, 0o444},
		{"go-rw", 0o022, 0o600},
		{"u+x", 0o022, 0o766},
		{"+x", 0o022, 0o777&^0o022 | 0o666},
		{"=r", 0o077, 0o400},          // no who: umask applies
		{"-w", 0o022, 0o444 | 0o022},  // umask keeps g/o write (none set in 0666? they are)
		{"u=rw,g=u,o=", 0o022, 0o660}, // copy from u
		{"ug=rw,o-rw", 0, 0o660},
		{"o=g", 0, 0o666},
		{"a=X", 0, 0},
		{"a+x,a=X", 0, 0o777&^0o666 | 0o111},
		{"u-r+x", 0, 0o366},
	}
	for _, c := range cases {
		got, err := ParseMode(c.in, c.umask)
		if err != nil {
			t.Errorf("ParseMode(%q, %o): %v", c.in, c.umask, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseMode(%q, %o) = %o, want %o", c.in, c.umask, got, c.want)
		}
	}
}

func TestParseModeRejects(t *testing.T) {
	for _, in := range []string{"", "8", "0o600", "1777", "4755", "u+s", "+t", "z=r", "u", "u=rw,", "u=rwq", "u=gr", "rw"} {
		if m, err := ParseMode(in, 0o022); err == nil {
			t.Errorf("ParseMode(%q) = %o, want error", in, m)
		}
	}
}
