package tee

import "golang.org/x/sys/unix"

// dropDAC removes CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the calling
// thread only (capset(2) is per thread), so that root gets EACCES.
func dropDAC() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	for _, c := range []uint{unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH} {
		data[c/32].Effective &^= 1 << (c % 32)
		data[c/32].Permitted &^= 1 << (c % 32)
		data[c/32].Inheritable &^= 1 << (c % 32)
	}
	return unix.Capset(&hdr, &data[0])
}
