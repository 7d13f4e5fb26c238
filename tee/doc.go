// Package tee fans one input stream out to many sinks — standard output,
// files, FIFOs and shell commands — without losing a byte.
//
// By default every sink is lossless: a slow sink slows the whole stream
// (back-pressure) and every sink receives every byte, in order. A sink may be
// marked lossy: it then drops data instead of stalling the others, and the
// dropped bytes are counted.
//
// Write errors follow GNU tee's --output-error policies (see Policy). The
// package never prints and never exits: Run returns a Result with one
// SinkResult per sink (bytes, drops, typed errors, command exit statuses)
// and the caller decides what to say and which exit status to use.
//
// On Linux, when standard input and an output are pipes, data is duplicated
// with tee(2) and moved with splice(2) between pipe buffers enlarged to
// 1 MiB with F_SETPIPE_SZ, so it never enters user space. Other outputs, and
// every output on other systems, get read(2)/write(2) with a 1 MiB buffer.
// The bytes delivered are the same on both paths; Options.NoSplice forces the
// portable one.
package tee
