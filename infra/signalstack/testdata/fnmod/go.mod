module example.com/fnmod

go 1.26
