package main

import "github.com/drbook/drbook/site"

// labSiteShape is the lab's site as validate sees it: the names of its
// hosts, guests and services, without starting anything.
func labSiteShape() *site.Site {
	return &site.Site{Name: "lab", Lab: true}
}
