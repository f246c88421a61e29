#!/bin/sh
# Links a native module's objects as mpy_ld.py does, keeping only the code and data reachable
# from mpy_init: mpy_ld.py copies every section of every object into the .mpy, and a native
# module's code is copied into RAM when it is imported, so a helper that no module function
# calls (a shared core file's other functions) would cost RAM on every board.
# Usage: natmod_link.sh CROSS_LD MPY_LD... -- mpy_ld arguments and objects
# (make passes the link's variables on to its prerequisites: mpy_ld --preprocess, which makes
# the module's config header, goes through unchanged).
set -e
ld=$1
shift
mpy_ld=
while [ "$1" != "--" ]; do mpy_ld="$mpy_ld $1"; shift; done
shift
args=
objs=
out=
while [ $# -gt 0 ]; do
    case $1 in
        *.o) objs="$objs $1" ;;
        -o) out=$2; args="$args -o $2"; shift ;;
        *) args="$args $1" ;;
    esac
    shift
done
if [ -z "$objs" ]; then
    exec $mpy_ld $args
fi
kept=${out%.mpy}.kept.o
$ld -r --gc-sections -u mpy_init -o "$kept" $objs
exec $mpy_ld $args "$kept"
