package fifo

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// DefaultMode is the mode a FIFO is created with before the umask, as
// mkfifo(1) does.
const DefaultMode os.FileMode = 0o666

// ParseMode parses a mode as mkfifo -m does: octal ("600") sets the mode
// exactly; symbolic ("u=rw,go=", "a-w", "+r") changes DefaultMode the way
// chmod(1) would. As in chmod, a clause without a who part ("+r", "=rw")
// honours umask. Only permission bits are allowed: setuid, setgid and sticky
// are refused, as mkfifo refuses them.
func ParseMode(s string, umask os.FileMode) (os.FileMode, error) {
	if s == "" {
		return 0, fmt.Errorf("invalid mode %q: empty", s)
	}
	if s[0] >= '0' && s[0] <= '9' {
		n, err := strconv.ParseUint(s, 8, 32)
		if err != nil {
			return 0, fmt.Errorf("invalid mode %q: want octal (600) or symbolic (u=rw,go=)", s)
		}
		if n&^0o777 != 0 {
			return 0, fmt.Errorf("invalid mode %q: a FIFO mode may only set permission bits (0-777)", s)
		}
		return os.FileMode(n), nil
	}
	mode := uint32(DefaultMode)
	for _, clause := range strings.Split(s, ",") {
		var err error
		if mode, err = applyClause(mode, clause, uint32(umask)); err != nil {
			return 0, fmt.Errorf("invalid mode %q: %v", s, err)
		}
	}
	return os.FileMode(mode), nil
}

// applyClause applies one chmod clause: [ugoa]*([-+=]([rwxXst]*|[ugo]))+.
func applyClause(mode uint32, clause string, umask uint32) (uint32, error) {
	i := 0
	var who uint32
	for ; i < len(clause); i++ {
		switch clause[i] {
		case 'u':
			who |= 0o700
		case 'g':
			who |= 0o070
		case 'o':
			who |= 0o007
		case 'a':
			who |= 0o777
		default:
			goto ops
		}
	}
ops:
	mask := who
	if who == 0 {
		// No who: like "a", but the umask still applies.
		mask = 0o777 &^ umask
		who = 0o777
	}
	if i == len(clause) {
		return 0, fmt.Errorf("clause %q has no operator (+, - or =)", clause)
	}
	for i < len(clause) {
		op := clause[i]
		if op != '+' && op != '-' && op != '=' {
			return 0, fmt.Errorf("unexpected %q in clause %q", op, clause)
		}
		i++
		var perm uint32
		copied := false
		for ; i < len(clause) && !strings.ContainsRune("+-=", rune(clause[i])); i++ {
			if copied {
				return 0, fmt.Errorf("cannot mix %q with other permissions in clause %q", clause[i], clause)
			}
			switch c := clause[i]; c {
			case 'r':
				perm |= 0o444
			case 'w':
				perm |= 0o222
			case 'x':
				perm |= 0o111
			case 'X':
				// Execute only where some execute bit is already set
				// (a FIFO is never a directory).
				if mode&0o111 != 0 {
					perm |= 0o111
				}
			case 's', 't':
				return 0, fmt.Errorf("setuid, setgid and sticky bits are not allowed for a FIFO")
			case 'u', 'g', 'o':
				if perm != 0 {
					return 0, fmt.Errorf("cannot mix %q with other permissions in clause %q", c, clause)
				}
				shift := map[byte]uint{'u': 6, 'g': 3, 'o': 0}[c]
				bits := (mode >> shift) & 7
				perm = bits<<6 | bits<<3 | bits
				copied = true
			default:
				return 0, fmt.Errorf("unexpected %q in clause %q", c, clause)
			}
		}
		switch op {
		case '+':
			mode |= perm & mask
		case '-':
			mode &^= perm & mask
		case '=':
			mode = mode&^who | perm&mask
		}
	}
	return mode, nil
}
