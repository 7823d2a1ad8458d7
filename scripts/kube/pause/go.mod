module valkey-platform/scripts/kube/pause

go 1.24
