//go:build !linux

package tee

import "errors"

func dropDAC() error { return errors.New("not supported") }
