# ratios.gp - make bench's bar chart of each server's throughput as a share of nginx's.
# tests/tools/bench runs it with -e "term='pngcairo'; dir='build/bench'; pairs=3" after
# writing dir/ratios.dat: a line per server, "\"name\" median ratio1 ratio2 ...".
set terminal @term size 800,480 font ",10"
set output dir.'/ratios.png'
set title "Requests per second as a share of nginx's, one connection per request"
set ylabel "server / nginx (bar: median; dots: each pair)"
set yrange [0:*]
set grid ytics
set style fill solid 0.5
set boxwidth 0.6
set key top right
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2
set label "nginx" at graph 0.99, first 1 right offset 0, -0.7
plot dir.'/ratios.dat' using 0:2:xtic(1) with boxes lc 3 title "median", \
     for [c=3:2+pairs] '' using 0:c with points pt 7 ps 0.8 lc black title (c == 3 ? "each pair" : "")
