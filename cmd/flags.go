package cmd

import (
	"time"

	"github.com/pipectl/pipectl/internal/units"
	"github.com/urfave/cli/v2"
)

// durationValue is a flag value in GNU timeout's form (1.5, 2m, 1d; 0 = no
// limit) or Go's (1m30s, 250ms). A bad value is a usage error (exit 2).
type durationValue struct {
	d   time.Duration
	set string
}

func (v *durationValue) Set(s string) error {
	d, err := units.ParseDuration(s)
	if err != nil {
		return err
	}
	v.d, v.set = d, s
	return nil
}

func (v *durationValue) String() string {
	if v == nil || v.set == "" {
		return ""
	}
	return v.set
}

// durationFlag declares a duration flag; read it with durationOf.
func durationFlag(name, usage string, aliases ...string) *cli.GenericFlag {
	return &cli.GenericFlag{Name: name, Usage: usage, Aliases: aliases, Value: &durationValue{}}
}

// durationOf returns the value of a flag declared with durationFlag (0 when unset).
func durationOf(c *cli.Context, name string) time.Duration {
	if v, ok := c.Generic(name).(*durationValue); ok && v != nil {
		return v.d
	}
	return 0
}

// sizeValue is a flag value in bytes, with an optional unit (64K, 1MiB, 2GB).
type sizeValue struct {
	n   uint64
	set string
}

func (v *sizeValue) Set(s string) error {
	n, err := units.ParseSize(s)
	if err != nil {
		return err
	}
	v.n, v.set = n, s
	return nil
}

func (v *sizeValue) String() string {
	if v == nil || v.set == "" {
		return ""
	}
	return v.set
}

// sizeFlag declares a size flag; read it with sizeOf.
func sizeFlag(name, usage string, aliases ...string) *cli.GenericFlag {
	return &cli.GenericFlag{Name: name, Usage: usage, Aliases: aliases, Value: &sizeValue{}}
}

// sizeOf returns the value of a flag declared with sizeFlag (0 when unset).
func sizeOf(c *cli.Context, name string) uint64 {
	if v, ok := c.Generic(name).(*sizeValue); ok && v != nil {
		return v.n
	}
	return 0
}
