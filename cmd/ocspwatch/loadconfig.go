package main

import "github.com/ocspwatch/ocspwatch/config"

func loadConfig(path string) (*config.Config, error) { return config.Load(path) }
