# latency.gp - make bench's plot of the wait for the answer against the job's length.
# tests/tools/bench runs it with -e "term='pngcairo'; dir='build/bench'; ..." after writing
# dir/latency.dat: a block per server, in the order of the words of `lessons`, each line
# "work_ms p50 p99 max" in milliseconds.
set terminal @term size 900,480 font ",10"
set output dir.'/latency.png'
set title "Time to the answer against the job's length (p50 solid, p99 dashed)"
set xlabel "length of each job (--work-ms)"
set ylabel "ms, log scale"
set logscale y
set grid ytics
set key outside right top vertical
set offsets 0.2, 0.2, 0, 0
# A colour and a point for each server; the first ones large and open, so that a server drawn
# later on the same values (lesson 02 on lesson 01) leaves them visible.
colours = "#8e44ad #27ae60 #2980b9 #e67e22 #c0392b #7f8c8d"
points = "6 7 5 9 13 11"
sizes = "2.2 1 1 1 1 1"
plot for [i=1:words(lessons)] dir.'/latency.dat' index (i-1) using 0:2:xtic(sprintf('%d ms', $1)) \
        with linespoints lw 2 lc rgb word(colours, i) pt int(word(points, i)) \
        ps real(word(sizes, i)) title word(lessons, i), \
     for [i=1:words(lessons)] dir.'/latency.dat' index (i-1) using 0:3 \
        with lines lw 1 dt 2 lc rgb word(colours, i) notitle
