//go:build !linux

package run

import (
	"errors"
	"os"
)

// orderedPair is unused outside Linux: stdout and stderr go through two
// pipes, merged in the order pipectl reads them.
type orderedPair struct {
	child *os.File
	fd    int
	max   int
}

func newOrderedPairs() ([3]*orderedPair, error) {
	return [3]*orderedPair{}, errors.New("ordered sockets need Linux")
}

func closePairs([3]*orderedPair) {}

func (p *orderedPair) maxMsg() int { return 0 }

func (o *outputs) pumpOrdered([3]*orderedPair, int) {}
