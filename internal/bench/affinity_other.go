//go:build !linux

package bench

import "errors"

// PinSelf is only available on Linux.
func PinSelf([]int) error { return errors.New("bench: pinning needs Linux") }
