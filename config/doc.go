// Package config loads and validates ocspwatch's TOML configuration and
// the PEM files it names. Decoding is strict, defaults are filled before
// validation, and every error names the file, the target and the key.
package config
