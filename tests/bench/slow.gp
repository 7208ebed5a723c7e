# slow.gp - make bench's bar chart of a normal client's wait with and without 50 slow
# connections open. tests/tools/bench runs it with -e "term='pngcairo'; dir='build/bench'"
# after writing dir/slow.dat: a line per case, "\"label\" p50 p99 given_up", in ms; given_up is
# 1 when the jobs got no answer within the limit, which p50 and p99 then hold.
set terminal @term size 800,480 font ",10"
set output dir.'/slow.png'
set title "A normal client's wait for its 202, with 0 or 50 slow connections open (25 idle, 25 trickling)"
set ylabel "ms, log scale"
set logscale y
set yrange [0.05:*]
set grid ytics
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.6
set key top left
plot dir.'/slow.dat' using 2:xtic(1) lc 3 title "p50", '' using 3 lc 1 title "p99", \
     '' using 0:($3 * 1.6):($4 != 0 ? sprintf("no answer within %g s", $3 / 1000) : "") \
        with labels notitle
