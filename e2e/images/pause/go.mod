module limedb.io/e2e/pause

go 1.22
