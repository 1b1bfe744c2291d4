package main

func Undocumented() {}
