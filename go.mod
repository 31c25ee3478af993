module github.com/ocspwatch/ocspwatch

go 1.26.8

require golang.org/x/crypto v0.59.0

require golang.org/x/sync v0.25.0 // indirect
