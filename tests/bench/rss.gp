# rss.gp - make bench's plot of the servers' resident memory under overload.
# tests/tools/bench runs it with -e "term='pngcairo'; dir='build/bench'; factors='10 100'"
# after writing dir/rss-03-Fx.dat and dir/rss-04-Fx.dat for each F of `factors`, each line
# "seconds rss_kb threads".
set terminal @term size 900,480 font ",10"
set output dir.'/rss.png'
set title "Resident memory under overload: lesson 03 (a thread per job), lesson 04 (a pool, then 503)"
set xlabel "seconds (the load runs from 0.5 s to 5.5 s)"
set ylabel "VmRSS, MiB"
set yrange [0:*]
set grid
set key outside right top vertical
plot for [i=1:words(factors)] dir.'/rss-03-'.word(factors, i).'x.dat' using 1:($2/1024) \
        with lines lw 2 lc rgb '#c0392b' dt i title '03, '.word(factors, i).'x load', \
     for [i=1:words(factors)] dir.'/rss-04-'.word(factors, i).'x.dat' using 1:($2/1024) \
        with lines lw 2 lc rgb '#2471a3' dt i title '04, '.word(factors, i).'x load'
