// Boost.Beast and Boost.Asio compiled once, here (BOOST_*_SEPARATE_COMPILATION): every other
// file includes only their declarations, which keeps a 2-core build tolerable.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
