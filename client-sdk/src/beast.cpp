// Boost.Beast and Boost.Asio compiled once for the SDK (BOOST_*_SEPARATE_COMPILATION), as
// the server does for itself: the SDK and the server never share object files.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
