#!/bin/sh
exec strace -f -T -tt -o /tmp/prof2/st.txt "$@"
